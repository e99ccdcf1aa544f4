from helper_daemon.cli import main

raise SystemExit(main())
