from roamtui.cli import main

raise SystemExit(main())
