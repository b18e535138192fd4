"""shelfwise.encoders"""
