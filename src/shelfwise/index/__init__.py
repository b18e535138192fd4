"""shelfwise.index"""
