"""What every stage stands on: jobs (progress, cancel), child processes and the process
pool, file locks, atomic files, errors and their words, paths, logging, the network policy,
and what differs between operating systems. Imports nothing else of kwdesk.
"""
