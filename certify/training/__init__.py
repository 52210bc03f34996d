"""Free pre-exam training: materials, practice, the wrong-answer book, mock exams."""
