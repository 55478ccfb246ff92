"""`python -m govledger.demo.extract`: regenerate the demo's seed CSVs."""

from govledger.demo.extract import main

raise SystemExit(main())
