"""Running the stage: schema migrations, the daily maintenance purges, and the health probes.
"""
