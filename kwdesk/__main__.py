from kwdesk.cli import main

raise SystemExit(main())
