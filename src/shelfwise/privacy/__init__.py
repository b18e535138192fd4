"""Privacy: pseudonymised shopper ids (more — PII scrubbing, deletion audits, DP aggregates — lands here)."""
