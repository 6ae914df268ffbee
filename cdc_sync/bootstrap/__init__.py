"""Full loads: source chunks → staging index → fenced catch-up → atomic swap."""
