"""Question banks (题库) and exam blueprints (组卷规则)."""
