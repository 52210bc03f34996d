"""Readers for the file formats trainers bring: xlsx, CSV, GIFT, Moodle XML, Aiken.

Each reader turns a file into ParsedQuestion values and problems with places; none
of them touches the database. banks.importer checks the parsed questions and saves.
"""
