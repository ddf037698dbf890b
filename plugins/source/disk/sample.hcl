# The disk source: built in, on every platform. Without settings it measures
# every real file system of a host; a group's module "disk" block narrows that.
group "file_servers" {
  names = ["fs-*"]
  os    = ["linux"]

  module "disk" {
    types          = ["ext4", "xfs", "nfs4"]
    exclude_mounts = ["/mnt/scratch"]
  }
}

alert "disk_nearly_full" {
  condition = disk.used_percent > 90 || disk.inodes_used_percent > 90
  for       = 2
  severity  = "critical"
}
