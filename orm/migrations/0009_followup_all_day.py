from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_imap_intake')]

    initial = False

    operations = [
        ops.AddField(
            model_name='FollowUp',
            name='all_day',
            field=fields.BooleanField(default=False, description='dates, not times: start/end/deadline are local midnights in tzid, end exclusive'),
        ),
    ]
