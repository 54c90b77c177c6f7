"""公共数据资产登记: the public-data asset register and its signed asset certificates (资产凭证)."""
