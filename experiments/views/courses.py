"""Course pages: the list, creating one (instructors), joining by code (students), submissions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import is_instructor
from core.errors import ServiceError
from core.htmx import AuthenticatedHttpRequest, form_refused, page_redirect
from experiments import selectors
from experiments.forms import CourseForm, JoinForm
from experiments.services.courses import course_create, course_join, course_leave, course_new_join_code


def _list_context(request: AuthenticatedHttpRequest) -> dict:
    user = request.user
    taught = selectors.courses_taught_with_counts(user=user)
    attended = list(selectors.courses_attended(user=user).prefetch_related("instructors"))
    submitted = selectors.submitted_counts_by_course(user=user)
    for course in attended:
        course.n_submitted = submitted.get(course.pk, 0)
    return {
        "taught": list(taught),
        "attended": attended,
        "can_teach": is_instructor(user) or user.is_staff,
        "course_form": CourseForm(),
        "join_form": JoinForm(initial={"join_code": request.GET.get("code", "")}),
    }


@login_required
@require_GET
def course_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Courses the user teaches (with a form to create one) or attends (with a form to join one)."""
    return render(request, "experiments/course_list.html", _list_context(request))


@login_required
@require_http_methods(["GET", "POST"])
def course_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """An instructor creates a course; its join code is made up on the spot."""
    if not (is_instructor(request.user) or request.user.is_staff):
        raise PermissionDenied("Only instructors can create courses.")
    form = CourseForm(request.POST or None)
    if request.method == "GET":
        return render(request, "experiments/course_new.html", {"form": form})
    status = 400
    if form.is_valid():
        try:
            course = course_create(
                instructor=request.user, name=form.cleaned_data["name"], description=form.cleaned_data["description"]
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            messages.success(
                request, f"Created “{course.name}”. Share the join code {course.join_code} with your class."
            )
            return page_redirect(request, reverse("course_detail", args=[course.pk]))
    template = "experiments/_course_form.html" if request.htmx else "experiments/course_new.html"
    return form_refused(request, template, {"form": form}, status=status, target="#course-form")


@login_required
@require_http_methods(["GET", "POST"])
def course_join_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A student joins a course with its code (a link ?code=… fills it in)."""
    form = JoinForm(request.POST or None, initial={"join_code": request.GET.get("code", "")})
    if request.method == "GET":
        return render(request, "experiments/course_join.html", {"form": form})
    status = 400
    if form.is_valid():
        try:
            course, joined = course_join(student=request.user, join_code=form.cleaned_data["join_code"])
        except ServiceError as exc:
            form.add_error("join_code", exc.message)
            status = exc.status
        else:
            if joined:
                messages.success(request, f"You joined “{course.name}”. Submit experiments to it from their pages.")
            else:
                messages.info(request, f"You are already in “{course.name}”.")
            return page_redirect(request, reverse("course_detail", args=[course.pk]))
    template = "experiments/_join_form.html" if request.htmx else "experiments/course_join.html"
    return form_refused(request, template, {"form": form}, status=status, target="#join-form")


@login_required
@require_GET
def course_detail(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    """Instructors: the join code, the class and its submissions; students: their own submissions."""
    course = selectors.course_get(user=request.user, course_id=course_id)
    teaches = selectors.is_course_instructor(user=request.user, course=course)
    context: dict = {"course": course, "teaches": teaches, "instructors": course.instructors.all()}
    if teaches:
        status = request.GET.get("status", "submitted")
        status = status if status in ("submitted", "reviewed", "all") else "submitted"
        submissions = selectors.course_submissions(course=course, status="" if status == "all" else status)
        page = Paginator(submissions, 25).get_page(request.GET.get("page"))
        rows = list(page.object_list)
        unread = selectors.unread_counts(user=request.user, experiment_ids=[e.pk for e in rows])
        for experiment in rows:
            experiment.unread = unread.get(experiment.pk, 0)
        counts = selectors.course_submission_counts(course=course)
        context |= {
            "status": status,
            "page": page,
            "rows": rows,
            "counts": counts,
            "students": course.students.order_by("username"),
            "join_url": request.build_absolute_uri(f"{reverse('course_join')}?code={course.join_code}"),
        }
        template = "experiments/course_detail.html"
        if request.htmx and request.htmx.target == "submissions":
            template += "#submissions"
        return render(request, template, context)
    rows = list(selectors.course_own_submissions(user=request.user, course=course))
    unread = selectors.unread_counts(user=request.user, experiment_ids=[e.pk for e in rows])
    for experiment in rows:
        experiment.unread = unread.get(experiment.pk, 0)
    context |= {
        "rows": rows,
        "drafts": selectors.experiment_drafts(user=request.user)[:5],
    }
    return render(request, "experiments/course_detail.html", context)


@login_required
@require_POST
def course_new_code(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    """Draw a new join code (the old one stops working)."""
    course = selectors.course_get(user=request.user, course_id=course_id)
    try:
        course_new_join_code(course=course, instructor=request.user)
    except ServiceError as exc:
        if exc.status == 403:
            raise PermissionDenied(exc.message) from None
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The new join code is {course.join_code}; the old one no longer works.")
    return redirect("course_detail", course_id=course.pk)


@login_required
@require_POST
def course_leave_view(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    """A student leaves a course (what they submitted stays with its instructors)."""
    course = selectors.course_get(user=request.user, course_id=course_id)
    if selectors.is_course_instructor(user=request.user, course=course):
        raise PermissionDenied("Instructors cannot leave their own course here; ask an admin.")
    course_leave(student=request.user, course=course)
    messages.success(request, f"You left “{course.name}”.")
    return redirect("course_list")
