terraform {
  backend "s3" {}
}

resource "terraform_data" "stack" {
  input = var.name
}
