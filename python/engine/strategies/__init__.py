"""Sample strategies shipped with quantx (load them as `engine.strategies.<module>:<Class>`)."""
