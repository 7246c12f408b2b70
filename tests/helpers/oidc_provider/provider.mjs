// A real, certified OpenID provider for stackctl's sign-in tests: panva's oidc-provider
// (pinned in package.json / package-lock.json), with one confidential client, a few users and
// a small login page of its own (oidc-provider's devInteractions take any name without a
// password; this one checks both).
//
//   node provider.mjs            (everything from the environment; argv --name=value too)
//
//   OIDC_PORT           port on 127.0.0.1 (required)
//   OIDC_ISSUER         the issuer URL (default http://localhost:PORT: another site than the
//                       console at 127.0.0.1, as a real provider is)
//   OIDC_CLIENT_ID      the client id (default stackctl)
//   OIDC_CLIENT_SECRET  the client secret (required)
//   OIDC_REDIRECT_URIS  redirect URIs, space-separated (required)
//   OIDC_POST_LOGOUT_REDIRECT_URIS  post-logout redirect URIs, space-separated (optional)
//   OIDC_USERS          JSON {"name": {"password": "...", "groups": [...], ...claims}} to use
//                       instead of the default users below
//
// Users (password: the name followed by "-password"): alice (groups ["ops"]), bob (no group),
// carol (groups ["admins"]). Claims: sub and preferred_username (the name), name, email,
// email_verified, groups (scope "groups"). The groups claim is released through userinfo, as
// oidc-provider conforms ID tokens to the code flow by default (claims of scopes there).
//
// PKCE is required of every client, consent is not asked (a first-party client), and its pages
// load nothing from elsewhere. It prints "oidc-provider listening on ISSUER" once it listens.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { parse as parseQuery } from 'node:querystring';

import Provider from 'oidc-provider';

const options = { ...process.env };
for (const arg of process.argv.slice(2)) {
  const match = /^--([a-z-]+)=(.*)$/s.exec(arg);
  if (match) options[`OIDC_${match[1].toUpperCase().replaceAll('-', '_')}`] = match[2];
}

function required(name) {
  const value = options[name];
  if (!value) {
    console.error(`provider.mjs: ${name} is required`);
    process.exit(2);
  }
  return value;
}

const port = Number(required('OIDC_PORT'));
const issuer = options.OIDC_ISSUER || `http://localhost:${port}`;
const words = (text) => (text || '').split(/\s+/).filter(Boolean);

const DEFAULT_USERS = {
  alice: { groups: ['ops'] },
  bob: { groups: [] },
  carol: { groups: ['admins'] },
};
const users = options.OIDC_USERS ? JSON.parse(options.OIDC_USERS) : DEFAULT_USERS;

function claimsOf(name) {
  const { password, ...given } = users[name];
  return {
    sub: name,
    preferred_username: name,
    name: name.charAt(0).toUpperCase() + name.slice(1),
    email: `${name}@example.test`,
    email_verified: true,
    ...given,
  };
}

function passwordOf(name) {
  return users[name].password ?? `${name}-password`;
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-1', use: 'sig', alg: 'RS256' };

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

const configuration = {
  clients: [{
    client_id: options.OIDC_CLIENT_ID || 'stackctl',
    client_secret: required('OIDC_CLIENT_SECRET'),
    redirect_uris: words(required('OIDC_REDIRECT_URIS')),
    post_logout_redirect_uris: words(options.OIDC_POST_LOGOUT_REDIRECT_URIS),
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  scopes: ['openid', 'profile', 'email', 'groups'],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page('Sign out of the test provider?', `${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out', '<p>You are signed out of the test provider.</p>');
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // A first-party client: the grant is made on sign-in, no consent page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      accountId: ctx.oidc.session.accountId,
      clientId: ctx.oidc.client.clientId,
    });
    grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    if (!Object.hasOwn(users, id)) return undefined;
    return { accountId: id, claims: () => claimsOf(id) };
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error at the test provider', `<pre>${escape(JSON.stringify(out, null, 2))}</pre>`);
  },
};

const provider = new Provider(issuer, configuration);

function loginForm(uid, error = '') {
  return page('Sign in to the test provider', `
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
  <label>User name <input name="username" autocomplete="username" required autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`);
}

async function formBody(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return parseQuery(text);
}

// The login page: GET /interaction/:uid, POST .../login, POST .../abort.
provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([^/]+)(?:\/(login|abort))?$/.exec(ctx.path);
  if (!match) return next();
  const [, uid, step] = match;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) ctx.throw(400, 'another interaction');
  ctx.set('cache-control', 'no-store');
  if (ctx.method === 'GET' && !step) {
    ctx.type = 'html';
    ctx.body = loginForm(uid);
    return undefined;
  }
  if (ctx.method !== 'POST') ctx.throw(405);
  if (step === 'abort') {
    return provider.interactionFinished(ctx.req, ctx.res, {
      error: 'access_denied', error_description: 'the person cancelled the sign-in',
    }, { mergeWithLastSubmission: false });
  }
  const { username = '', password = '' } = await formBody(ctx.req);
  if (!Object.hasOwn(users, username) || password !== passwordOf(username)) {
    ctx.status = 401;
    ctx.type = 'html';
    ctx.body = loginForm(uid, 'Wrong user name or password.');
    return undefined;
  }
  return provider.interactionFinished(ctx.req, ctx.res, {
    login: { accountId: username },
  }, { mergeWithLastSubmission: false });
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => { server.close(); process.exit(0); });
}
