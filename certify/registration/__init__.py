"""报名 and 资格审核: a public 认定公告, the applications to it, and their review into a class."""
