from digitkit.cli.entry import main

main()
