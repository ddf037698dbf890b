# Overlay storage blocks replace --db: every round goes to each of them.
storage "sqlite" "local" {
  path      = "/var/lib/cscs/cscs.db"
  retention = "90d"
}
