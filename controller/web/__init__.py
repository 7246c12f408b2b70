"""The HTTP surface: the JSON API and the server-rendered console over the same repositories."""
