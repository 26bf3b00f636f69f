"""What the commands that act on a deployed stack need (`rebuild`, `redrive`): its outputs, its dead letters."""
