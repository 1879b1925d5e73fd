//! The org directory server. The HTTP API and its storage arrive with the server issue.
