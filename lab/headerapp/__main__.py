"""`python -m lab.headerapp`: run header-app (the header lab's protected app)."""

from lab.headerapp.app import main

main()
