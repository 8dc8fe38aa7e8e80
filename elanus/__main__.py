from elanus.cli import main

raise SystemExit(main())
