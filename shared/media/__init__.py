"""Files users upload: avatar presigning, the checks an upload must pass before it is referenced, and its
storage keys.
"""
