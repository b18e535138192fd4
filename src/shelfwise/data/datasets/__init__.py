"""shelfwise.data.datasets"""
