group "dc" {
  os = ["windows"]
  module "eventlog" {
    chanel = "Security"
  }
}
