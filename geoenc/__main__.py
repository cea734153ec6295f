"""``python -m geoenc`` runs the command line."""

from geoenc.cli.main import main

if __name__ == "__main__":
    main()
