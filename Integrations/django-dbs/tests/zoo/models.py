"""The model zoo: every relation and field kind a backup must carry exactly."""
import uuid

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Author(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=200)
    born = models.DateField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)


class Profile(models.Model):
    author = models.OneToOneField(Author, on_delete=models.CASCADE, related_name="profile")
    bio = models.TextField(blank=True)
    avatar = models.ImageField(upload_to="avatars/", null=True, blank=True)


class Tag(models.Model):
    name = models.CharField(max_length=100, unique=True)


class Category(models.Model):
    name = models.CharField(max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")


class Article(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="articles")
    category = models.ForeignKey(Category, null=True, on_delete=models.SET_NULL)
    tags = models.ManyToManyField(Tag, blank=True)
    title = models.CharField(max_length=300)
    body = models.TextField()
    price = models.DecimalField(max_digits=12, decimal_places=4, null=True)
    meta = models.JSONField(default=dict, blank=True)
    published = models.DateTimeField(null=True)
    duration = models.DurationField(null=True)
    flag = models.BooleanField(default=False)
    ratio = models.FloatField(null=True)
    blob = models.BinaryField(null=True)
    attachment = models.FileField(upload_to="attachments/", blank=True)
    scan_path = models.CharField(max_length=500, blank=True)   # FILE_PATH (zoo/dbs.py)
    render_cache = models.TextField(blank=True, default="")    # EXCLUDE (zoo/dbs.py)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)


class Club(models.Model):
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(Author, through="Membership", related_name="clubs")


class Membership(models.Model):
    club = models.ForeignKey(Club, on_delete=models.CASCADE)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    joined = models.DateTimeField()
    role = models.CharField(max_length=50, blank=True)


class Place(models.Model):
    name = models.CharField(max_length=100)
    address = models.CharField(max_length=200, blank=True)


class Restaurant(Place):
    serves_pizza = models.BooleanField(default=False)
    stars = models.IntegerField(null=True)


class FamousRestaurant(Restaurant):
    class Meta:
        proxy = True


class Comment(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.CharField(max_length=64)
    target = GenericForeignKey("content_type", "object_id")
    text = models.TextField()


class Department(models.Model):
    """Half of a reference cycle: department -> head (an employee) -> department."""

    name = models.CharField(max_length=100)
    head = models.ForeignKey("Employee", null=True, on_delete=models.SET_NULL, related_name="heads")


class Employee(models.Model):
    name = models.CharField(max_length=100)
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="employees")
    mentor = models.ForeignKey("self", null=True, on_delete=models.SET_NULL)


class VisibleManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(deleted=False)


class Note(models.Model):
    """Soft-deleted rows hidden by the default manager: a backup must still hold them."""

    text = models.CharField(max_length=100)
    deleted = models.BooleanField(default=False)
    objects = VisibleManager()

    class Meta:
        base_manager_name = "all_objects"

    all_objects = models.Manager()


class Reading(models.Model):
    """Many small rows (the bounded-memory test)."""

    sensor = models.IntegerField()
    value = models.FloatField()
    taken = models.DateTimeField()
    label = models.CharField(max_length=64)


class ExternalView(models.Model):
    """Unmanaged: skipped by default."""

    name = models.CharField(max_length=10)

    class Meta:
        managed = False
        db_table = "zoo_external_view"


class Box(models.Model):
    """A GeneratedField (Django 5.0+): computed by the database, never written by a restore."""

    width = models.IntegerField()
    height = models.IntegerField()
    area = models.GeneratedField(expression=models.F("width") * models.F("height"),
                                 output_field=models.IntegerField(), db_persist=True)
