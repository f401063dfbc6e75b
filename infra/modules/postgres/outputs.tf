output "instance_id" {
  value = aws_db_instance.this.identifier
}

output "address" {
  value = aws_db_instance.this.address
}

output "port" {
  value = aws_db_instance.this.port
}

# host:port, as the restore and seed procedures use it.
output "endpoint" {
  value = "${aws_db_instance.this.address}:${aws_db_instance.this.port}"
}

output "master_secret_arn" {
  value = try(aws_db_instance.this.master_user_secret[0].secret_arn, null)
}

output "subnet_group_name" {
  value = aws_db_subnet_group.this.name
}
