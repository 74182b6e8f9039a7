from fsm_cli.main import main

main()
