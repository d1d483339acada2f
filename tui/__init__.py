"""needlewise front ends: the `needlewise` command line and (later) the Textual app."""
