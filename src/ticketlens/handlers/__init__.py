"""Lambda entry points: thin wrappers that wire AWS events onto the library."""
