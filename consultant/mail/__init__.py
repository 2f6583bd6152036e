"""Mail: intake from IMAP or Maildir, parsing, threading, machine-mail rules, sending."""
