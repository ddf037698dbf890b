# The authlog source: built in, Linux only.
group "bastions" {
  names = ["bastion-*"]
  os    = ["linux"]

  module "authlog" {
    file       = "/var/log/auth.log"
    max_events = 1000
  }
}
