"""What the history means: exact totals (`stats`) and the five product answers (`insights`)."""
