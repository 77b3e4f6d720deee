"""What anyone may see without signing in: the public profile, the character sheet maths, the SVG card, the
leaderboard, and their Redis cache.
"""
