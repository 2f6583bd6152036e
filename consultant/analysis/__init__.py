"""Analysis of a question's text: codes, modifiers, units, dates, topics, PHI."""
