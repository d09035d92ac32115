from digitkit.cli.app import main

main()
