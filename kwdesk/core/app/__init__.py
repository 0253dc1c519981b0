"""What the two front ends (the window and the CLI) share above the stages: the user's
settings, what is built from them (the teacher), flows that chain stages (train, then
export) and the doctor report.
"""
