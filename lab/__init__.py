"""The lab: services around the book in core/ (training runs, data, the Playground engine, stores).

Nothing here is needed to read how a network learns; everything here uses core/ to do a job for a page.
"""
