import pytest

from certify.core.masking import mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("王小明", "王*明"), ("欧阳娜娜", "欧**娜"), ("李", "李"), ("", "")],
)
def test_names_keep_only_their_ends(name, masked):
    assert mask_name(name) == masked


def test_id_numbers_keep_the_first_six_and_last_four():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("") == ""


def test_phone_numbers_keep_three_and_four():
    assert mask_phone("13812345678") == "138****5678"
