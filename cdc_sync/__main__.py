from cdc_sync.cli import main

main()
