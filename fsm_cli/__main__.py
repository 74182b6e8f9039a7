from fsm_cli.launch import main

main()
