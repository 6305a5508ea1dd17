from dermatrack.cli.main import main

main()
