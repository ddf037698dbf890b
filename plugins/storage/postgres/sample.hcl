# The DSN comes from the environment, so its password stays out of files.
storage "postgres" "warehouse" {
  dsn       = env("CSCS_PG_DSN")
  retention = "400d"
}
