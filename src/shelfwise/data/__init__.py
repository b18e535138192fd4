"""shelfwise.data"""
