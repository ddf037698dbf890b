storage "sqlite" "local" {
  pth = "cscs.db"
}
