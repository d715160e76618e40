"""Fair draws (抽签): a scarce offer's places handed out by a verifiable draw."""
