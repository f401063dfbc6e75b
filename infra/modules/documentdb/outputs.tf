output "cluster_id" {
  value = aws_docdb_cluster.this.cluster_identifier
}

output "endpoint" {
  value = aws_docdb_cluster.this.endpoint
}

output "port" {
  value = aws_docdb_cluster.this.port
}

# Connection string without credentials: caliber seed-secrets adds the user
# and password when it writes the documentdb-uri secret.
output "uri" {
  value = "mongodb://${aws_docdb_cluster.this.endpoint}:27017/?tls=true&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false"
}

output "master_secret_arn" {
  value = try(aws_docdb_cluster.this.master_user_secret[0].secret_arn, null)
}

output "subnet_group_name" {
  value = aws_docdb_subnet_group.this.name
}
