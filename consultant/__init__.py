"""CaseConsultant: answers medical-coding questions that arrive by email."""
