"""shelfwise.evaluation"""
